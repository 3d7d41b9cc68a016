"""What arrives: files and formats (FHIR R4 resources and Bundles, batch records) turned into inputs."""
