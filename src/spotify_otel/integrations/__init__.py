"""Framework and client integrations: one module per framework, each imported lazily and only
when its framework is installed."""
