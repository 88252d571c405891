"""Images shipped with the package (thumbnails for the index page)."""
