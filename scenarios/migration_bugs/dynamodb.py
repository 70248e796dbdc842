"""Migration bugs in the DynamoDB backend: see the package docstring."""
