"""AWS quotas a mesh would use, checked before anything is deployed."""
