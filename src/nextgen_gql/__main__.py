from nextgen_gql.cli import entry

entry()
