"""REST API v1 for the mobile apps: marshmallow schemas and thin views over community services."""
