"""Data: download and validate the raw sets, prepare compact arrays and splits, stream batches."""
