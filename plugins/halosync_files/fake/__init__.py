"""The file source's fake: a generator of vendor export files (``python -m halosync_files.fake``)."""
