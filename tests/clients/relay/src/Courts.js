// Every court, each read through a fragment (CourtsCourt.js); the national endpoint.
import { graphql } from "relay-runtime";

export const CourtsQuery = graphql`
  query CourtsQuery {
    courts {
      id
      code
      ...CourtsCourt_court
    }
  }
`;
