"""Running the site: the health check that load balancers and monitors ask."""
