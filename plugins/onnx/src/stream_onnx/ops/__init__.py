"""The built-in op parsers, one module per operator family (see the package README for the table)."""
