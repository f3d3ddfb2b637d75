import { graphql } from "relay-runtime";

export const CourtsCourtFragment = graphql`
  fragment CourtsCourt_court on Court {
    name
    kind
    isNextgen
  }
`;
