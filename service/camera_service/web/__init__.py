"""What the settings page and the laptop viewer share: HTTP plumbing, page errors, frames."""
