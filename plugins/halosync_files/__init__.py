"""halosync_files: CSV and XLSX lead lists (Sales Navigator, ZoomInfo, Cognism, Lusha, event sign-ups) dropped into
a watched folder, or given to ``halosync import FILE``, as a lead source. Written against ``halosync.plugin`` only,
the way a third party writes a plugin; see README.md beside this file."""
