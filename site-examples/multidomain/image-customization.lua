features {
  'autoupdater',
  'config-mode-domain-select',
  'ebtables-filter-multicast',
  'ebtables-filter-ra-dhcp',
  'mesh-batman-adv-15',
  'mesh-vpn-fastd',
  'respondd',
  'status-page',
  'web-advanced',
  'web-wizard',
}
