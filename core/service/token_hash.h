// API tokens: generation and hashing. Tokens are 256 random bits; only their
// SHA-256 is stored, so a leaked database does not leak credentials.
#pragma once

#include <string>
#include <string_view>

namespace normbase::service {

// A new token: "nb_" + 43 base64url characters (libsodium's CSPRNG).
std::string NewToken();
// Hex SHA-256 of the token: the key it is stored under.
std::string HashToken(std::string_view token);
// Compares two equal-length strings in time independent of their contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Initialises libsodium once; false if the library cannot be used.
bool InitCrypto();

}  // namespace normbase::service
