"""Microsoft Dynamics 365 Business Central connector (API v2.0 over OData, Entra client credentials)."""
