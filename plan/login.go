package plan

import (
	"fmt"

	"github.com/iscsiboot/iscsiboot/core"
)

// LoginConfig is the core login configuration of target t through portal:
// the plan's initiator name, the target's CHAP, the algorithms of
// node.session.auth.chap_algs, and the operational keys with the plan's
// node.session.iscsi.* and node.conn[0].iscsi.* overrides.
func LoginConfig(p *Plan, t *Target, portal Portal) (core.Config, error) {
	cfg := core.Config{
		InitiatorName: p.Initiator,
		TargetName:    t.Name,
		Portal:        portal.String(),
	}
	if cfg.InitiatorName == "" {
		return cfg, fmt.Errorf("no initiator name: give -i, rd.iscsi.initiator= or an iBFT")
	}
	if t.Auth.Method == AuthCHAP {
		cfg.Auth = core.Auth{Username: t.Auth.Username, Secret: t.Auth.Password.Reveal(),
			UsernameIn: t.Auth.UsernameIn, SecretIn: t.Auth.PasswordIn.Reveal()}
	}
	if v := p.Params["node.session.auth.chap_algs"]; v != "" {
		algs, err := core.ParseCHAPAlgs(v)
		if err != nil {
			return cfg, fmt.Errorf("parameter node.session.auth.chap_algs: %w", err)
		}
		cfg.Auth.Algorithms = algs
	}
	offers, err := core.ApplyOverrides(core.DefaultOffers(), p.Params)
	if err != nil {
		return cfg, err
	}
	cfg.Offers = offers
	return cfg, nil
}
