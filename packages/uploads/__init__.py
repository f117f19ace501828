"""Uploads: accept_upload() (operation.py) and the checks it runs, one module a concern."""
