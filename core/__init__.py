"""Domain core: settings, database, models, repositories and services. No FastAPI, no Temporal."""
