"""The reference roaming engine (the oracle). Pure functions: no pytest, no serial, no subprocess."""
