"""Tools beside the service: benchmarks, load tests, evaluations, demo and synthetic data.
Nothing on the request path imports them."""
