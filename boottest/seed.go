package boottest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/render/nocloud"
)

// SeedISO writes a node's NoCloud seed (an ISO 9660 volume labelled cidata)
// from its rendered directory (user-data, meta-data and, when present,
// network-config) with swarmboot's own writer, the one `swarmboot render
// --format nocloud-iso` uses, so the boot proves that image too.
func SeedISO(_ context.Context, nodeDir, iso string) error {
	var seed seediso.Seed
	for _, f := range []struct {
		name     string
		dst      *[]byte
		optional bool
	}{
		{"user-data", &seed.UserData, false},
		{nocloud.MetaDataFile, &seed.MetaData, false},
		{nocloud.NetworkConfigFile, &seed.NetworkConfig, true},
	} {
		data, err := os.ReadFile(filepath.Join(nodeDir, f.name))
		if err != nil && !(f.optional && os.IsNotExist(err)) {
			return fmt.Errorf("seed for %s: %w", nodeDir, err)
		}
		*f.dst = data
	}
	img, err := seediso.Image(seed)
	if err != nil {
		return fmt.Errorf("seed for %s: %w", nodeDir, err)
	}
	return os.WriteFile(iso, img, 0o644)
}
