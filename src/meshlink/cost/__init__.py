"""What a mesh costs: prices per region (prices.json), usage from the topology, estimate."""
