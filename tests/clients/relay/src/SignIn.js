// A mutation, persisted like the queries.
import { graphql } from "relay-runtime";

export const SignInMutation = graphql`
  mutation SignInMutation($input: SignInInput!) {
    signIn(input: $input) {
      token
      errors {
        code
        message
      }
    }
  }
`;
