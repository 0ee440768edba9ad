// The JSON API paths the pages call (one place to adjust when an API moves).

export const ENDPOINTS = {
  magicLink: "/v1/auth/magic-link",
  signout: "/v1/auth/logout",
  me: "/v1/auth/me",
  sessions: "/v1/auth/sessions",
  keys: "/v1/auth/api-keys",
  usage: "/v1/usage/me",
  models: "/v1/chat/models",
  turns: "/v1/chat/turns",
  conversations: "/v1/chat/conversations",
};
