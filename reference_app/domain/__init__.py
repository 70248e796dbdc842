"""The card ledger's domain: entities, rules and errors. Imports no infrastructure."""
