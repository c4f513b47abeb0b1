"""SyncHub: keeps an online store, a CRM and an ERP in step."""
