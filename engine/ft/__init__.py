"""802.11r FT-PSK oracle: key hierarchy (keys), FTE MIC (mic), exchange finder (exchange)."""
from .exchange import FTAnalysis, FTExchange, Handshake, InitialFTAssociation, find_exchanges
from .keys import FTKeys, KeyInputError, PTK, Secrets, derive_keys, kdf_sha256, pmk_from_passphrase
from .mic import compute_mic, mic_input, mic_parts, verify_mic

__all__ = ["FTAnalysis", "FTExchange", "Handshake", "InitialFTAssociation", "find_exchanges",
           "FTKeys", "KeyInputError", "PTK", "Secrets", "derive_keys", "kdf_sha256",
           "pmk_from_passphrase", "compute_mic", "mic_input", "mic_parts", "verify_mic"]
