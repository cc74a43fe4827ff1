"""The entry point: `flask --app wsgi run`, `gunicorn wsgi:app`."""
from community import create_app

app = create_app()
