// The signed-in account (Authorization: Bearer), partly through a fragment.
import { graphql } from "relay-runtime";

export const MeQuery = graphql`
  query MeQuery {
    me {
      username
      ...MeAccount_account
    }
  }
`;

export const MeAccountFragment = graphql`
  fragment MeAccount_account on PacerAccount {
    firstName
    lastName
    isLegacy
  }
`;
