"""One module per flow: plain functions over ports and canonical models, no HTTP or boto3 here."""
