"""Client for the Flourish Software External API. Plain Python: no Django import here."""
