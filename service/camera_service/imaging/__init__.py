"""The bosdyn.api.ImageService: request validation, custom parameters, response building."""
