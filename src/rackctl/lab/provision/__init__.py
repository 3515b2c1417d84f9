"""Provisioning targets without GPUs: a debootstrap image on overlayfs, run as chroots or systemd-nspawn
machines, fed by a signed local apt repository of stand-ins for NVIDIA's packages.

    image.base_image()        Debian image, cached across runs (debootstrap once)
    standins.build_repo(dir)  stand-in .debs (playbooks/packaging/standins.yml) in a signed flat repo
    targets.Lab(...)          overlay copies of the image as chroot or nspawn targets, with their
                              Ansible connection variables for an inventory override file
"""
