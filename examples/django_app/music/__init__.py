"""The music app: catalogue, search, recommendations and a per-tenant background job."""
