// A query with a variable: a court by its global id.
import { graphql } from "relay-runtime";

export const CourtNodeQuery = graphql`
  query CourtNodeQuery($id: ID!) {
    node(id: $id) {
      ... on Court {
        code
        name
      }
    }
  }
`;
