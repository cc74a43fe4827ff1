"""Uploaded images and PDFs: checked by their bytes, re-encoded, served only to their readers."""
