"""Evaluating bids: the poster's members score each submitted bid on the job's criteria."""
