"""serp_screenshot's SQL: the snapshot to shoot, the screenshots stored, the API's reads."""
