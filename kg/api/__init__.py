"""The HTTP edge: the FastAPI application, its routes and error mapping."""
