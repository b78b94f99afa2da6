"""`meshlink bootstrap`: the deploy role meshlink assumes in each account, and its policy."""
