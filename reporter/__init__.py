"""dataplane-bench reporter: archives → tidy table → statistics → charts → an offline mkdocs site.

It never touches hosts and never modifies an archive."""
