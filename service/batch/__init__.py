"""Work outside requests: bulk import, and the nightly rematch runs."""
