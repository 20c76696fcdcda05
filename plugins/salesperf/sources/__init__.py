"""Sources that deliver CRM data to the landing tables (DESIGN §3).

Each source kind lives in its own module: ``crm_db`` (a CRM's relational database, the
demo CRM being one), ``files`` (CSV/XLSX exports with a YAML mapping).
"""
