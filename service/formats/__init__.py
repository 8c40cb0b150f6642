"""Documents that become rows: schema.org JobPosting vacancies and CV files (PDF, .docx, .odt)."""
