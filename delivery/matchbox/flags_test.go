package matchbox

// Accept the flags shared by every test package (go test ./... -update).
import _ "github.com/swarmboot/swarmboot/internal/testutil"
