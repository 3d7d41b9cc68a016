"""Many records: reading, screening with shared work, and ordered output from worker processes."""
