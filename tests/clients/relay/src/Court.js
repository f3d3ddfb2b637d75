// The court a request is addressed to: sent to /courts/mad/graphql.
import { graphql } from "relay-runtime";

export const CourtQuery = graphql`
  query CourtQuery {
    court {
      code
      name
    }
  }
`;
