"""Django project of the multi-tenant music example."""
