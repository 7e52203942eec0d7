"""Property tests: hypothesis draws valid sites (strategies.py); VMS_PROPERTY_EXAMPLES sets how many."""
