"""In-app notifications and their emails, sent only to people who may see the job."""
