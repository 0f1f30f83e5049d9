"""What every HTTP face of kg shares (the REST API and the webhook receiver alike): bounded
body reading and the mapping of kg's errors to problem details. Neither `kg.api` nor
`webhooks` owns it, so neither imports the other's internals."""
