"""The scenario: validated configuration, the tenant population and each year's inputs."""
