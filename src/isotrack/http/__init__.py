"""What the HTTP surfaces (api, web, cds) share: requests, sign-in, errors."""
